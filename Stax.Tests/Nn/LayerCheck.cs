using Stax.Tests.Infrastructure;
using Stax.Nn;

namespace Stax.Tests.Nn;

/// <summary>
/// Compares a layer with a double-precision reference written in the test: the forward values, and
/// the gradient of a weighted sum of the outputs with respect to the input and every parameter
/// against central differences of the same weighted sum of the reference.
/// </summary>
public static class LayerCheck
{
    /// <summary>A reference: (input, parameters by slash-joined path such as "query/kernel") → output, all flat row-major.</summary>
    public delegate double[] Reference(double[] x, IReadOnlyDictionary<string, double[]> p);

    /// <summary>"query/kernel" for <c>["query"]["kernel"]</c>.</summary>
    public static string Name(TreePath path) => string.Join("/", path.Keys.Select(k => k.Kind == TreeKeyKind.Index ? k.Position.ToString() : k.Name!));

    /// <summary>
    /// Checks <paramref name="module"/> at float64 <paramref name="x"/> and <paramref name="parameters"/>
    /// (any tree); <paramref name="apply"/> replaces <c>module.Apply(p, x, training: false)</c>.
    /// </summary>
    public static void AgainstReference(Module module, Tensor x, object parameters, Reference reference,
        double tol = 1e-9, double gradTol = 1e-6, bool differentiateInput = true, Func<object, Tensor, Tensor>? apply = null)
    {
        apply ??= (p, xx) => module.Apply(p, xx, training: false);
        var (leaves, _) = Tree.FlattenWithPaths(parameters);
        var names = leaves.Select(l => Name(l.Path)).ToArray();
        var sizes = leaves.Select(l => (int)l.Leaf.Size).ToArray();
        var xs = x.ToDoubleArray();
        IReadOnlyDictionary<string, double[]> Ps(double[] flat, int offset)
        {
            var d = new Dictionary<string, double[]>();
            for (int i = 0; i < names.Length; i++)
            {
                d[names[i]] = flat[offset..(offset + sizes[i])];
                offset += sizes[i];
            }
            return d;
        }
        var pFlat = leaves.SelectMany(l => l.Leaf.ToDoubleArray()).ToArray();

        // Forward values.
        var y = apply(parameters, x);
        var expected = reference(xs, Ps(pFlat, 0));
        Numerics.Close(expected, y.ToDoubleArray(), tol, tol, $"{module.Name} output");

        // Gradients of Σ w·y.
        var w = Numerics.Values(99, expected.Length);
        var wt = Tensor.FromArray(w, y.Shape.ToArray());
        if (y.DType != DType.Float64) wt = Lax.ConvertElementType(wt, y.DType);
        var grads = differentiateInput
            ? Transforms.Grad((object?[] a) => Np.Sum(apply(a[0]!, (Tensor)a[1]!) * wt))(new object?[] { parameters, x })
            : new object?[] { Transforms.Grad((object a) => Np.Sum(apply(a, x) * wt))(parameters), null };
        var gp = Tree.Leaves(grads[0]);
        int nx = differentiateInput ? xs.Length : 0;
        var all = (differentiateInput ? xs : Array.Empty<double>()).Concat(pFlat).ToArray();
        var numeric = Numerics.Gradient(v => Numerics.Dot(reference(differentiateInput ? v[..nx] : xs, Ps(v, nx)), w), all);
        if (differentiateInput)
            Numerics.Close(numeric[..nx], ((Tensor)grads[1]!).ToDoubleArray(), gradTol, gradTol, $"{module.Name} d/dx");
        int offset = nx;
        for (int i = 0; i < names.Length; i++)
        {
            Numerics.Close(numeric[offset..(offset + sizes[i])], gp[i].ToDoubleArray(), gradTol, gradTol, $"{module.Name} d/d{names[i]}");
            offset += sizes[i];
        }
    }
}
