#include "stats.h"
int stats_f6(int x) { return common_mix(stats_f5(x), 6) % 1000003; }
