#include "geom.h"
int geom_f9(int x) { return common_mix(geom_f8(x), 9) % 1000003; }
