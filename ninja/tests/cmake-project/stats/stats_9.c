#include "stats.h"
int stats_f9(int x) { return common_mix(stats_f8(x), 9) % 1000003; }
