// The ONNX graph writer lives in the library (LatentIndigo.Onnx, internal; visible here through InternalsVisibleTo).
global using LatentIndigo.Onnx;
