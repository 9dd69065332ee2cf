#include "text.h"
int text_f2(int x) { return common_mix(text_f1(x), 2) % 1000003; }
