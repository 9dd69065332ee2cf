#include "stats.h"
int stats_f3(int x) { return common_mix(stats_f2(x), 3) % 1000003; }
