#include "text.h"
int text_f1(int x) { return common_mix(text_f0(x), 1) % 1000003; }
