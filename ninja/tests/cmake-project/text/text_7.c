#include "text.h"
int text_f7(int x) { return common_mix(text_f6(x), 7) % 1000003; }
