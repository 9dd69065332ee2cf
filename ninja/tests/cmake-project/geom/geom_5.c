#include "geom.h"
int geom_f5(int x) { return common_mix(geom_f4(x), 5) % 1000003; }
