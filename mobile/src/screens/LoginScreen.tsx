import { useState } from 'react';
import { Pressable, StyleSheet, Text, TextInput, View } from 'react-native';

import { ApiError, describeError } from '../api/errors';
import { useServices } from '../servicesContext';
import { colors, common } from '../theme';

/** Email and password; the token pair is saved by the API client and the app switches screens. */
export function LoginScreen() {
  const { api } = useServices();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      await api.login(email.trim(), password);
    } catch (e) {
      setError(e instanceof ApiError && e.status === 401 ? 'Email or password is wrong.' : describeError(e));
      setBusy(false);
    }
  };

  return (
    <View style={[common.screen, styles.container]}>
      <Text style={common.heading}>AYKA</Text>
      <TextInput
        style={styles.input}
        placeholder="Email"
        autoCapitalize="none"
        keyboardType="email-address"
        value={email}
        onChangeText={setEmail}
      />
      <TextInput
        style={styles.input}
        placeholder="Password"
        secureTextEntry
        value={password}
        onChangeText={setPassword}
      />
      {error ? (
        <Text style={styles.error} accessibilityRole="alert">
          {error}
        </Text>
      ) : null}
      <Pressable
        accessibilityRole="button"
        disabled={busy || !email || !password}
        onPress={() => void submit()}
        style={[styles.button, (busy || !email || !password) && { opacity: 0.5 }]}
      >
        <Text style={styles.buttonText}>{busy ? 'Logging in…' : 'Log in'}</Text>
      </Pressable>
    </View>
  );
}

const styles = StyleSheet.create({
  container: { justifyContent: 'center', padding: 24 },
  input: {
    backgroundColor: colors.card,
    borderWidth: 1,
    borderColor: colors.border,
    borderRadius: 8,
    padding: 12,
    marginBottom: 12,
  },
  error: { color: colors.danger, marginBottom: 12 },
  button: { backgroundColor: colors.accent, borderRadius: 8, padding: 14, alignItems: 'center' },
  buttonText: { color: '#fff', fontWeight: '700' },
});
