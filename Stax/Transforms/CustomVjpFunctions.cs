namespace Stax;

/// <summary>The forward function of a custom VJP: outputs and residuals from the explicit inputs.</summary>
public delegate (Tensor[] Outputs, Tensor[] Residuals) CustomVjpForward(Tensor[] inputs);

/// <summary>The backward function of a custom VJP: input cotangents from residuals and output cotangents.</summary>
public delegate Tensor[] CustomVjpBackward(Tensor[] residuals, Tensor[] cotangents);
