#include "geom.h"
int geom_f0(int x) { return common_mix(x, 0) % 1000003; }
