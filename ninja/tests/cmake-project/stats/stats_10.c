#include "stats.h"
int stats_f10(int x) { return common_mix(stats_f9(x), 10) % 1000003; }
