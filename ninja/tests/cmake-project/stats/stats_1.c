#include "stats.h"
int stats_f1(int x) { return common_mix(stats_f0(x), 1) % 1000003; }
