#include "text.h"
int text_f10(int x) { return common_mix(text_f9(x), 10) % 1000003; }
