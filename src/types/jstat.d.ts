/** The part of jstat 1.9 that migsim uses (the package ships no types). */
declare module "jstat" {
  interface JStatStatic {
    studentt: {
      /** quantile: the t with P(T <= t) = p for `dof` degrees of freedom */
      inv(p: number, dof: number): number;
      cdf(x: number, dof: number): number;
    };
    normal: {
      inv(p: number, mean: number, std: number): number;
      cdf(x: number, mean: number, std: number): number;
    };
    beta: {
      /** quantile: the x with P(X <= x) = p for Beta(alpha, beta) */
      inv(p: number, alpha: number, beta: number): number;
    };
    /** ln Gamma(x) */
    gammaln(x: number): number;
    /** quantiles of arr at the probabilities qs (alphap = betap = 1: type 7, linear interpolation) */
    quantiles(arr: readonly number[], qs: readonly number[], alphap?: number, betap?: number): number[];
  }
  const jStat: JStatStatic;
  export default jStat;
}
