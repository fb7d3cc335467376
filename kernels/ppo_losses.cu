// PPO's two losses where the actor's log-probabilities and the critic's values are: one block walks the rows (one
// value per row, rows whose target is −1 skipped), writes the gradients, and adds the summed loss and the update's
// statistics to float totals left on the device for the optimizer's one read. Sums are taken in float64 in a fixed
// order (deterministic), as PpoLosses defines them on the host.
#include "c2f/cuda.cuh"
#include "c2f/vector_io.cuh"

/// The clipped surrogate max(−A·ρ, −A·clip(ρ, 1 ± clip)) plus the entropy bonus −coefficient·H per response row:
/// log_prob_gradient = −A·ρ/tokens where the unclipped term is the larger (else 0), entropy_gradient = −coefficient/tokens;
/// loss_sum[0] += Σ surrogate − coefficient·Σ H; statistics[0..4] += (Σ surrogate, clipped rows, Σ (log ρ)², Σ ρ, Σ H).
extern "C" __global__ void __launch_bounds__(256)
c2f_ppo_policy_loss_f32(const float* log_probs, const float* entropy, const float* old_log_probs, const float* advantages,
                        const int* targets, int rows, double clip, double coefficient, double tokens, float* log_prob_gradient,
                        float* entropy_gradient, float* loss_sum, float* statistics)
{
    __shared__ double slots[32];
    double surrogate = 0, clipped_rows = 0, squared_log_ratios = 0, ratios = 0, entropies = 0;
    for (int i = threadIdx.x; i < rows; i += blockDim.x)
    {
        if (targets[i] < 0)
        {
            log_prob_gradient[i] = 0;
            entropy_gradient[i] = 0;
            continue;
        }
        const double log_ratio = (double)log_probs[i] - (double)old_log_probs[i], ratio = exp(log_ratio), advantage = advantages[i];
        const double unclipped = -advantage * ratio, clipped = -advantage * fmin(fmax(ratio, 1 - clip), 1 + clip);
        if (clipped > unclipped)
        {
            surrogate += clipped;
            clipped_rows += 1;
            log_prob_gradient[i] = 0;
        }
        else
        {
            surrogate += unclipped;
            log_prob_gradient[i] = (float)(unclipped / tokens);
        }
        squared_log_ratios += log_ratio * log_ratio;
        ratios += ratio;
        entropies += entropy[i];
        entropy_gradient[i] = (float)(-coefficient / tokens);
    }
    surrogate = c2f::block_sum(surrogate, slots);
    clipped_rows = c2f::block_sum(clipped_rows, slots);
    squared_log_ratios = c2f::block_sum(squared_log_ratios, slots);
    ratios = c2f::block_sum(ratios, slots);
    entropies = c2f::block_sum(entropies, slots);
    if (threadIdx.x != 0) return;
    c2f::add_to_total(loss_sum, surrogate - coefficient * entropies);
    c2f::add_to_total(statistics + 0, surrogate);
    c2f::add_to_total(statistics + 1, clipped_rows);
    c2f::add_to_total(statistics + 2, squared_log_ratios);
    c2f::add_to_total(statistics + 3, ratios);
    c2f::add_to_total(statistics + 4, entropies);
}
C2F_REGISTER_KERNEL(c2f_ppo_policy_loss_f32);

/// The clipped value loss coefficient·½·max((V − R)², (clamp(V, V_old ± clip) − R)²) per response row:
/// value_gradient = coefficient·(V − R)/tokens where the unclipped error is the larger (else 0);
/// loss_sum[0] += coefficient·½·Σ max(…); statistics[0..1] += (Σ max(…), clipped rows).
extern "C" __global__ void __launch_bounds__(256)
c2f_ppo_value_loss_f32(const float* values, const float* old_values, const float* returns, const int* targets, int rows, double clip,
                       double coefficient, double tokens, float* value_gradient, float* loss_sum, float* statistics)
{
    __shared__ double slots[32];
    double squared_errors = 0, clipped_rows = 0;
    for (int i = threadIdx.x; i < rows; i += blockDim.x)
    {
        if (targets[i] < 0)
        {
            value_gradient[i] = 0;
            continue;
        }
        const double value = values[i], old_value = old_values[i], target = returns[i];
        const double error = value - target;
        // A clamp of V, not V_old + clip(V − V_old): inside the range it is V itself, so it never passes for a binding clip.
        const double clipped_error = fmin(fmax(value, old_value - clip), old_value + clip) - target;
        if (clipped_error * clipped_error > error * error)
        {
            squared_errors += clipped_error * clipped_error;
            clipped_rows += 1;
            value_gradient[i] = 0;
        }
        else
        {
            squared_errors += error * error;
            value_gradient[i] = (float)(coefficient * error / tokens);
        }
    }
    squared_errors = c2f::block_sum(squared_errors, slots);
    clipped_rows = c2f::block_sum(clipped_rows, slots);
    if (threadIdx.x != 0) return;
    c2f::add_to_total(loss_sum, coefficient * 0.5 * squared_errors);
    c2f::add_to_total(statistics + 0, squared_errors);
    c2f::add_to_total(statistics + 1, clipped_rows);
}
C2F_REGISTER_KERNEL(c2f_ppo_value_loss_f32);
