/**
 * Running a sharded sweep on a Slurm cluster: the sbatch scripts of the job array and the merge
 * job.
 */
export { writeSlurmScripts } from "./sbatch.ts";
