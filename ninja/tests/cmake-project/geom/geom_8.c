#include "geom.h"
int geom_f8(int x) { return common_mix(geom_f7(x), 8) % 1000003; }
