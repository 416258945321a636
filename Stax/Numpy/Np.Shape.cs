namespace Stax;

public static partial class Np
{
    /// <summary>Row-major reshape; one dimension may be -1 (inferred).</summary>
    public static Tensor Reshape(Tensor x, params int[] shape)
    {
        int infer = -1;
        long known = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] == -1)
            {
                if (infer >= 0) throw new ArgumentException($"reshape: only one dimension can be -1, got {Shape.Format(shape)}");
                infer = i;
            }
            else if (shape[i] < 0) throw new ArgumentException($"reshape: invalid dimension {shape[i]} in {Shape.Format(shape)}");
            else known *= shape[i];
        }
        var dims = (int[])shape.Clone();
        if (infer >= 0)
        {
            if (known == 0 || x.Size % known != 0)
                throw new ArgumentException($"reshape: cannot reshape {x.Shape} ({x.Size} elements) to {Shape.Format(shape)}");
            dims[infer] = (int)(x.Size / known);
        }
        return Lax.Reshape(x, new Shape(dims));
    }

    /// <summary>A rank-1 view of the elements.</summary>
    public static Tensor Ravel(Tensor x) => Reshape(x, -1);
}
