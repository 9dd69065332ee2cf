#include "stats.h"
int stats_f8(int x) { return common_mix(stats_f7(x), 8) % 1000003; }
