#include "geom.h"
int geom_f6(int x) { return common_mix(geom_f5(x), 6) % 1000003; }
