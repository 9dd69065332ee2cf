#include "text.h"
int text_f9(int x) { return common_mix(text_f8(x), 9) % 1000003; }
