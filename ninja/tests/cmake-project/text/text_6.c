#include "text.h"
int text_f6(int x) { return common_mix(text_f5(x), 6) % 1000003; }
