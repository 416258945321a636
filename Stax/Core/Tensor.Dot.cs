namespace Stax;

public sealed partial class Tensor
{
    /// <summary>Matrix product with NumPy semantics (<see cref="Np.Matmul"/>).</summary>
    public Tensor Matmul(Tensor other) => Np.Matmul(this, other);

    /// <summary>Dot product with NumPy semantics (<see cref="Np.Dot"/>).</summary>
    public Tensor Dot(Tensor other) => Np.Dot(this, other);
}
