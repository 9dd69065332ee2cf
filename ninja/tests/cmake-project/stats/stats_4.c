#include "stats.h"
int stats_f4(int x) { return common_mix(stats_f3(x), 4) % 1000003; }
