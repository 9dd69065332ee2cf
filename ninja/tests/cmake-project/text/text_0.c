#include "text.h"
int text_f0(int x) { return common_mix(x, 0) % 1000003; }
