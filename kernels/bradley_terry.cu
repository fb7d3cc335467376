// The reward model's Bradley–Terry loss where its scores are: one block walks the pairs, writes each score's
// gradient, and adds the summed loss and the step's statistics to float totals left on the device for the
// optimizer's one read. Sums are taken in float64 in a fixed order (deterministic), as BradleyTerryStatistics
// defines them on the host.
#include "c2f/cuda.cuh"
#include "c2f/vector_io.cuh"

/// For `pairs` pairs, scores = [chosen…, rejected…] and one margin each (d = r_c − r_r − m, s = r_c + r_r,
/// c = centering): gradient[i] = (2cs − σ(−d))/gradient_pairs, gradient[pairs + i] = (2cs + σ(−d))/gradient_pairs;
/// loss_sum[0] += Σ softplus(−d) + c·s²; statistics[0..3] += (pairs with r_c > r_r, Σ r_c, Σ r_r, Σ r² over all scores).
extern "C" __global__ void __launch_bounds__(256)
c2f_bradley_terry_f32(const float* scores, const float* margins, int pairs, double centering, double gradient_pairs, float* gradient,
                      float* loss_sum, float* statistics)
{
    __shared__ double slots[32];
    double loss = 0, correct = 0, chosen_sum = 0, rejected_sum = 0, squares = 0;
    for (int i = threadIdx.x; i < pairs; i += blockDim.x)
    {
        const double chosen = scores[i], rejected = scores[pairs + i], d = chosen - rejected - (double)margins[i], level = chosen + rejected;
        // softplus(−d) = max(−d, 0) + log(1 + e^−|d|) and σ(−d) with the exponent kept ≤ 0: no overflow at any gap.
        const double e = exp(-fabs(d));
        loss += fmax(-d, 0.0) + log1p(e) + centering * level * level;
        const double sigmoid_of_negative = d >= 0 ? e / (1 + e) : 1 / (1 + e), pull = 2 * centering * level;
        gradient[i] = (float)((pull - sigmoid_of_negative) / gradient_pairs);
        gradient[pairs + i] = (float)((pull + sigmoid_of_negative) / gradient_pairs);
        correct += chosen > rejected ? 1 : 0;
        chosen_sum += chosen;
        rejected_sum += rejected;
        squares += chosen * chosen + rejected * rejected;
    }
    loss = c2f::block_sum(loss, slots);
    correct = c2f::block_sum(correct, slots);
    chosen_sum = c2f::block_sum(chosen_sum, slots);
    rejected_sum = c2f::block_sum(rejected_sum, slots);
    squares = c2f::block_sum(squares, slots);
    if (threadIdx.x != 0) return;
    c2f::add_to_total(loss_sum, loss);
    c2f::add_to_total(statistics + 0, correct);
    c2f::add_to_total(statistics + 1, chosen_sum);
    c2f::add_to_total(statistics + 2, rejected_sum);
    c2f::add_to_total(statistics + 3, squares);
}
C2F_REGISTER_KERNEL(c2f_bradley_terry_f32);
