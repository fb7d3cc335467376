using System.CommandLine;

namespace Mistral.C2F.Cli;

/// <summary>Range rules on numeric options, checked while parsing: a bad value fails with the option's name before any work.</summary>
internal static class OptionRules
{
    public static Option<int> AtLeast(this Option<int> option, int minimum)
    {
        option.Validators.Add(result => Check(result, option.Name, result.GetValueOrDefault<int>(), minimum));
        return option;
    }

    public static Option<int?> AtLeast(this Option<int?> option, int minimum)
    {
        option.Validators.Add(result => Check(result, option.Name, result.GetValueOrDefault<int?>(), minimum));
        return option;
    }

    public static Option<double> Positive(this Option<double> option)
    {
        option.Validators.Add(result =>
        {
            double value = result.GetValueOrDefault<double>();
            if (!(value > 0 && double.IsFinite(value))) result.AddError($"{option.Name} must be a positive number, got {value}");
        });
        return option;
    }

    private static void Check(System.CommandLine.Parsing.OptionResult result, string name, int? value, int minimum)
    {
        if (value < minimum) result.AddError($"{name} must be at least {minimum}, got {value}");
    }
}
