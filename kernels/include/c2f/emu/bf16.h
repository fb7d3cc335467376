// bfloat16 as on the device: 16 bits of storage, float32 arithmetic, round to nearest even on conversion.
#pragma once
#include <cstdint>
#include <cstring>

struct __nv_bfloat16
{
    unsigned short __x;

    __nv_bfloat16() = default;
    __nv_bfloat16(float value) : __x(from_float(value)) {}
    operator float() const
    {
        uint32_t bits = static_cast<uint32_t>(__x) << 16;
        float value;
        std::memcpy(&value, &bits, sizeof value);
        return value;
    }

    static unsigned short from_float(float value)
    {
        uint32_t bits;
        std::memcpy(&bits, &value, sizeof bits);
        if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<unsigned short>((bits >> 16) | 0x40u);  // quiet NaN
        bits += 0x7FFFu + ((bits >> 16) & 1u);
        return static_cast<unsigned short>(bits >> 16);
    }
};

struct alignas(4) __nv_bfloat162
{
    __nv_bfloat16 x, y;
};

inline __nv_bfloat16 __float2bfloat16(float value) { return __nv_bfloat16(value); }
inline __nv_bfloat16 __float2bfloat16_rn(float value) { return __nv_bfloat16(value); }
inline float __bfloat162float(__nv_bfloat16 value) { return static_cast<float>(value); }
inline __nv_bfloat162 __floats2bfloat162_rn(float low, float high) { return {__nv_bfloat16(low), __nv_bfloat16(high)}; }
inline __nv_bfloat162 __halves2bfloat162(__nv_bfloat16 low, __nv_bfloat16 high) { return {low, high}; }
inline float __low2float(__nv_bfloat162 pair) { return static_cast<float>(pair.x); }
inline float __high2float(__nv_bfloat162 pair) { return static_cast<float>(pair.y); }
