/** What die-service knows of a die, exactly as `GET /dice?identifier=` returns it. */
export interface DieSpecification {
  /** The values a roll can land on, each equally likely. */
  faces: number[];
  /** Probability in [0, 1] that a roll fails. */
  error_rate: number;
}
