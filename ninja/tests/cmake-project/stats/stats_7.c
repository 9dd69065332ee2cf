#include "stats.h"
int stats_f7(int x) { return common_mix(stats_f6(x), 7) % 1000003; }
