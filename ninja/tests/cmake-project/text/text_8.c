#include "text.h"
int text_f8(int x) { return common_mix(text_f7(x), 8) % 1000003; }
