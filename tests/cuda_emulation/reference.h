// What the emulation programs share when checking a kernel against its float64 reference.
#include <algorithm>
#include <cmath>
#include <vector>

// The largest error of `got` against `want`, relative to 1 + |want| (so absolute near zero); a
// NaN anywhere makes it infinite.
inline double worst_error(const std::vector<float>& got, const std::vector<double>& want) {
    double worst = 0;
    for (size_t i = 0; i < got.size(); ++i) {
        double e = std::fabs(got[i] - want[i]) / (1 + std::fabs(want[i]));
        worst = std::isnan(e) ? INFINITY : std::max(worst, e);
    }
    return worst;
}
