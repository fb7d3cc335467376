namespace Mistral.C2F.Engine.Tokenization;

/// <summary>Numbers 0…999 spelled in English ("four hundred and twenty-one"), for the built-in corpus.</summary>
internal static class EnglishNumbers
{
    private static readonly string[] Small =
    [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
    ];

    private static readonly string[] Tens = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"];

    public static string Words(int number)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(number);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(number, 999);
        if (number < 20) return Small[number];
        if (number < 100) return number % 10 == 0 ? Tens[number / 10] : $"{Tens[number / 10]}-{Small[number % 10]}";
        var hundreds = $"{Small[number / 100]} hundred";
        return number % 100 == 0 ? hundreds : $"{hundreds} and {Words(number % 100)}";
    }
}
