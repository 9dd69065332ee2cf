#include "geom.h"
int geom_f4(int x) { return common_mix(geom_f3(x), 4) % 1000003; }
