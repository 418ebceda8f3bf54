declare module "draco3d" {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  export function createDecoderModule(opts?: object): Promise<any>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  export function createEncoderModule(opts?: object): Promise<any>;
}
