#include "text.h"
int text_f4(int x) { return common_mix(text_f3(x), 4) % 1000003; }
