using Mistral.C2F.Rlhf.Evaluation;

namespace Mistral.C2F.Rlhf.Tests.Evaluation;

/// <summary>The report's number format: four significant digits, plain notation.</summary>
[Trait("Backend", "cpu")]
public sealed class SignificantFiguresTests
{
    [Theory]
    [InlineData(0.012345, "0.01235")]
    [InlineData(12.345, "12.35")]
    [InlineData(-12.345, "-12.35")]
    [InlineData(1.5, "1.500")]
    [InlineData(9.99996, "10.00")] // rounding carries into a new digit: still four
    [InlineData(0.99996, "1.000")]
    [InlineData(1234.4, "1234")]
    [InlineData(45678.9, "45679")] // integer digits are never cut
    [InlineData(0, "0")]
    [InlineData(1e-20, "1.000E-020")]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.PositiveInfinity, "∞")]
    public void Numbers_have_four_significant_digits(double value, string expected) =>
        Assert.Equal(expected, SignificantFigures.Format(value));

    [Fact]
    public void Shares_are_percentages_and_missing_values_a_dash()
    {
        Assert.Equal("45.67", SignificantFigures.Percent(0.456749));
        Assert.Equal("100.0", SignificantFigures.Percent(1));
        Assert.Equal("–", SignificantFigures.Format(null));
        Assert.Equal("–", SignificantFigures.Percent(null));
        Assert.Equal("3.1", SignificantFigures.Format(3.14159, digits: 2));
    }
}
