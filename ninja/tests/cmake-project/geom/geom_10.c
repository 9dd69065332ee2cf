#include "geom.h"
int geom_f10(int x) { return common_mix(geom_f9(x), 10) % 1000003; }
