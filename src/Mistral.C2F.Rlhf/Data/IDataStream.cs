namespace Mistral.C2F.Rlhf.Data;

/// <summary>A stream of training data whose position is its whole state: one built from a saved position continues exactly.</summary>
public interface IDataStream
{
    DataPosition Position { get; }
}
