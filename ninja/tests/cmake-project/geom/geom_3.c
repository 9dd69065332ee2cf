#include "geom.h"
int geom_f3(int x) { return common_mix(geom_f2(x), 3) % 1000003; }
