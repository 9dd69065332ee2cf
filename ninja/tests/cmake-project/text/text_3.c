#include "text.h"
int text_f3(int x) { return common_mix(text_f2(x), 3) % 1000003; }
