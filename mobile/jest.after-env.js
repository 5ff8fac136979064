// A cold first render (Babel compiling React Native) can take seconds on a small CI machine.
require('@testing-library/react-native').configure({ asyncUtilTimeout: 10000 });
