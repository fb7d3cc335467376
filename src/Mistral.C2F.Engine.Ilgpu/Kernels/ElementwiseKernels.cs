using ILGPU;
using ILGPU.Runtime;

namespace Mistral.C2F.Engine.Ilgpu.Kernels;

/// <summary>SwiGLU, its backward and Add: memory-bound grid-stride loops, one element per thread per step.</summary>
internal sealed class ElementwiseKernels(KernelLaunch launch)
{
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>> _swiGlu =
        launch.Load<ArrayView<float>, ArrayView<float>, ArrayView<float>>(SwiGluKernel);
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>> _swiGluBackward =
        launch.Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(SwiGluBackwardKernel);
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>> _add =
        launch.Load<ArrayView<float>, ArrayView<float>, ArrayView<float>>(AddKernel);

    public void SwiGlu(ArrayView<float> gate, ArrayView<float> up, ArrayView<float> output)
    {
        if (gate.Length > 0) _swiGlu(launch.GridStride(gate.Length), gate, up, output);
    }

    public void SwiGluBackward(ArrayView<float> gate, ArrayView<float> up, ArrayView<float> outputGrad, ArrayView<float> gateGrad, ArrayView<float> upGrad)
    {
        if (gate.Length > 0) _swiGluBackward(launch.GridStride(gate.Length), gate, up, outputGrad, gateGrad, upGrad);
    }

    /// <summary>output = a + b; output may alias either input (each element is read before it is written, by the same thread).</summary>
    public void Add(ArrayView<float> a, ArrayView<float> b, ArrayView<float> output)
    {
        if (a.Length > 0) _add(launch.GridStride(a.Length), a, b, output);
    }

    private static void SwiGluKernel(ArrayView<float> gate, ArrayView<float> up, ArrayView<float> output)
    {
        for (long i = DeviceMath.GlobalThread; i < gate.Length; i += DeviceMath.GlobalThreads)
        {
            float g = gate[i];
            output[i] = g / (1 + DeviceMath.Exp(-g)) * up[i];
        }
    }

    // out = g·σ(g)·u:  dg += dout·u·σ(g)·(1 + g·(1 − σ(g))),  du += dout·g·σ(g).
    private static void SwiGluBackwardKernel(ArrayView<float> gate, ArrayView<float> up, ArrayView<float> outputGrad,
        ArrayView<float> gateGrad, ArrayView<float> upGrad)
    {
        for (long i = DeviceMath.GlobalThread; i < gate.Length; i += DeviceMath.GlobalThreads)
        {
            float g = gate[i], dOut = outputGrad[i];
            float sigmoid = 1 / (1 + DeviceMath.Exp(-g));
            gateGrad[i] += dOut * up[i] * sigmoid * (1 + g * (1 - sigmoid));
            upGrad[i] += dOut * g * sigmoid;
        }
    }

    private static void AddKernel(ArrayView<float> a, ArrayView<float> b, ArrayView<float> output)
    {
        for (long i = DeviceMath.GlobalThread; i < a.Length; i += DeviceMath.GlobalThreads) output[i] = a[i] + b[i];
    }
}
