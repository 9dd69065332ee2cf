#include "common.h"
int common_mix(int a, int b) { return a * SCALE + b; }
