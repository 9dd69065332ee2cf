#include "geom.h"
int geom_f2(int x) { return common_mix(geom_f1(x), 2) % 1000003; }
