// Encoding grid, histograms and statistics: filled in by the calibration work.
export {};
