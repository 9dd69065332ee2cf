#include "geom.h"
int geom_f1(int x) { return common_mix(geom_f0(x), 1) % 1000003; }
