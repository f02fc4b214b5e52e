// ALS runs the recommender contract through the factory.
import { makeRecommender } from './factory.ts';
import { AlternatingLeastSquares } from './als.ts';
import { recommenderContract } from './recommender.case.test.ts';

recommenderContract('als', () => makeRecommender({ kind: 'als', factors: 3, regularization: 0.01, iterations: 15, seed: 42, threads: 1 }), (p) => AlternatingLeastSquares.load(p, {}, { threads: 1 }));
