#include "geom.h"
int geom_f7(int x) { return common_mix(geom_f6(x), 7) % 1000003; }
