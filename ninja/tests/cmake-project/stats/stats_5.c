#include "stats.h"
int stats_f5(int x) { return common_mix(stats_f4(x), 5) % 1000003; }
