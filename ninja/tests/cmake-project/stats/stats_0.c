#include "stats.h"
int stats_f0(int x) { return common_mix(x, 0) % 1000003; }
