#include "stats.h"
int stats_f2(int x) { return common_mix(stats_f1(x), 2) % 1000003; }
