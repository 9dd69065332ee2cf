#include "text.h"
int text_f5(int x) { return common_mix(text_f4(x), 5) % 1000003; }
